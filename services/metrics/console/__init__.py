"""The seller's and the operator's console: HTML pages of the metrics service that also read and act
through the other services' HTTP APIs, with the signed-in person's own token (no JavaScript)."""
