"""Review before release: what a spec change will change on the Hub page (`publisher diff`)."""
