"""Page data: one function per page, returning plain data that the HTML template and the JSON
API both use, so a page and its API answer can never disagree."""
