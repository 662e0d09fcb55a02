"""A local Hugging Face Hub-compatible HTTP server for tests, benchmarks and the demo.

It shares only the Hub's wire protocol with the push client in `publisher.hub`; nothing in the
client side imports it.
"""
