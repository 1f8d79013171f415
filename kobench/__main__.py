from kobench.cli import main

main()
