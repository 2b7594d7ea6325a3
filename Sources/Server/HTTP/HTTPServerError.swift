import Glibc

/// Why the server could not start; names the failing call.
public struct HTTPServerError: Error, CustomStringConvertible {
    /// The call that failed, e.g. `bind`.
    public var call: String
    /// What went wrong.
    public var message: String

    /// An error for `call` with `message`.
    public init(call: String, message: String) {
        self.call = call
        self.message = message
    }

    /// An error for a system call that set `errno`.
    static func system(_ call: String, errno code: Int32 = errno) -> HTTPServerError {
        HTTPServerError(call: call, message: String(cString: strerror(code)))
    }

    /// `<call> failed: <message>`.
    public var description: String { "\(call) failed: \(message)" }
}
