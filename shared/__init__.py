"""In-image shared library of the functions (the container-world Lambda layer)."""
