from sellerflow.cli import app

app()
