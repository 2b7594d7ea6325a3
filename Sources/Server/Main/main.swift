import ServerApp

ServerCommand.runMain()
