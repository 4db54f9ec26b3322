# A file that a sample page includes with pymdownx.snippets.
included = "ran"
