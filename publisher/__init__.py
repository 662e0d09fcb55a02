"""publisher: declarative model specs to checked Hugging Face model repositories."""

__version__ = "0.1.0"
