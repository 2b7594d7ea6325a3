/// `tooltool change-visibility` and `delete` (stub).
struct FileOperationCommand {
    /// Which operation.
    enum Operation { case changeVisibility, delete }
    /// The parsed command line.
    let options: Options
    /// Which operation.
    let operation: Operation
    /// Runs.
    func run() throws(ClientError) -> Bool { false }
}
