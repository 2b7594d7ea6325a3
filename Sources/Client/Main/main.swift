import ClientCore

#if canImport(Glibc)
import Glibc
#endif

exit(Tooltool.main(arguments: Array(CommandLine.arguments.dropFirst()), environment: Tooltool.processEnvironment()))
