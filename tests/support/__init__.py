"""Helpers the tests share (not part of the product or the tools)."""
