"""Event builders: the events AWS services hand to Lambda and the records Lambda sends, as pure
functions, one module per shape. Used by the sources and the HTTP surfaces alike.
May import: providers only.
"""
