from sellerflow.cli import main

main()
