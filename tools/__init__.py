"""Developer tooling: local stack, AWS bootstrap, images, push, demo."""
