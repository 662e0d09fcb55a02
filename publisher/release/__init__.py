"""`publisher release`: resolve a release tag to specs, check and publish each, report to GitHub.

- `tags.py`: the tag scheme (`<spec-name>/v<semver>` or `v<semver>`) and, for `v<semver>`,
  which specs changed since the previous `v*` tag (git history).
- `github.py`: the GitHub Actions side: context from the environment, step outputs, the job
  summary and workflow-command annotations, with secrets scrubbed from everything written.
- `run.py`: lint → render → validate (local checkpoint or the weights on the Hub) → push → tag,
  per spec, and the Markdown report.
"""
