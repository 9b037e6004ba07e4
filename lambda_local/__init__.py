"""The local Lambda plane: what AWS does around the functions (template, invoke, event delivery), done locally."""
