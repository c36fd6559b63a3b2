"""The `sellerflow` command: runs services, the embedded default, the clock and operations tools."""
