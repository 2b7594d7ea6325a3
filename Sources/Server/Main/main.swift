import ServerApp

ServerCommand.main()
