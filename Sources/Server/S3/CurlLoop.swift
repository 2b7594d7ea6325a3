import CCurl
import CEvent
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One thread running a libevent loop that drives a libcurl multi handle (`CURLMOPT_SOCKETFUNCTION` and
/// `CURLMOPT_TIMERFUNCTION` feeding `curl_multi_socket_action`, as in libcurl's libevent examples).
///
/// Transfers are submitted from any thread (a mailbox and a wake-up event); everything else, and every transfer's
/// callbacks, runs on the loop's own thread, so no S3 work ever waits on another event loop.
///
/// `@unchecked Sendable`: the mailbox is a `Mutex`; every other field is touched only on the loop thread.
final class CurlLoop: @unchecked Sendable {
    private let base: OpaquePointer
    private let multi: UnsafeMutableRawPointer
    private var wake: OpaquePointer!
    private var timer: OpaquePointer!
    private var sockets: [Int32: OpaquePointer] = [:]
    private var transfers: [UnsafeMutableRawPointer: CurlTransfer] = [:]
    private let mailbox = Mutex<[@Sendable () -> Void]>([])
    private let stopped = Atomic<Bool>(false)
    private var thread: pthread_t?
    /// The loop thread's `pthread_self()`, once it runs (0 before).
    private let runningThread = Atomic<UInt>(0)

    /// Whether the caller is this loop's own thread (where waiting for an S3 answer would wait forever).
    var isCurrentThread: Bool { runningThread.load(ordering: .relaxed) == UInt(pthread_self()) }

    /// Starts the loop's thread.
    init() throws(S3Error) {
        guard curlGlobalReady else { throw .configuration("curl_global_init failed") }
        guard eventThreadingReady, let base = event_base_new() else { throw .configuration("event_base_new failed") }
        guard let multi = curl_multi_init() else {
            event_base_free(base)
            throw .configuration("curl_multi_init failed")
        }
        self.base = base
        self.multi = multi
        let context = Unmanaged.passUnretained(self).toOpaque()
        wake = event_new(base, -1, 0, { _, _, context in CurlLoop.from(context).drainMailbox() }, context)
        timer = event_new(base, -1, 0, { _, _, context in CurlLoop.from(context).timerFired() }, context)
        _ = tt_curl_multi_setopt_pointer(multi, CURLMOPT_SOCKETDATA, context)
        _ = tt_curl_multi_setopt_pointer(multi, CURLMOPT_TIMERDATA, context)
        _ = tt_curl_multi_setopt_socket_callback(multi) { _, socket, what, userp, _ in
            CurlLoop.from(userp).watch(socket, what: what)
            return 0
        }
        _ = tt_curl_multi_setopt_timer_callback(multi) { _, milliseconds, userp in
            CurlLoop.from(userp).setTimer(milliseconds)
            return 0
        }
        _ = tt_curl_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, 64)
        let retained = Unmanaged.passRetained(self).toOpaque()  // released when the thread ends
        var thread = pthread_t()
        let created = pthread_create(
            &thread, nil,
            { context in
                let loop = Unmanaged<CurlLoop>.fromOpaque(context!).takeRetainedValue()
                loop.run()
                return nil
            }, retained)
        guard created == 0 else {
            Unmanaged<CurlLoop>.fromOpaque(retained).release()
            throw .configuration("pthread_create failed (\(created))")
        }
        self.thread = thread
        pthread_detach(thread)
    }

    private static func from(_ context: UnsafeMutableRawPointer?) -> CurlLoop {
        Unmanaged<CurlLoop>.fromOpaque(context!).takeUnretainedValue()
    }

    /// Runs `job` on the loop thread soon; any thread.
    func execute(_ job: @escaping @Sendable () -> Void) {
        mailbox.withLock { $0.append(job) }
        event_active(wake, EV_READ, 0)
    }

    /// Runs `job` on the loop thread after `seconds`; any thread.
    func execute(after seconds: Double, _ job: @escaping @Sendable () -> Void) {
        execute { [self] in
            let box = Unmanaged.passRetained(JobBox(job)).toOpaque()
            guard
                let event = event_new(
                    base, -1, 0,
                    { _, _, context in
                        let box = Unmanaged<JobBox>.fromOpaque(context!).takeRetainedValue()
                        event_free(box.event)
                        box.job()
                    }, box)
            else { return }
            Unmanaged<JobBox>.fromOpaque(box).takeUnretainedValue().event = event
            var tv = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - Double(Int(seconds))) * 1_000_000))
            event_add(event, &tv)
        }
    }

    /// Ends the loop; transfers still running fail with `.cancelled`. Any thread.
    func stop() {
        guard !stopped.exchange(true, ordering: .relaxed) else { return }
        execute { [self] in
            for transfer in Array(transfers.values) { finish(transfer, .cancelled) }
            event_base_loopbreak(base)
        }
    }

    /// Loop thread: starts `transfer`.
    func start(_ transfer: CurlTransfer) {
        assert(isCurrentThread, "CurlLoop.start off its loop thread")
        guard !stopped.load(ordering: .relaxed) else { return transfer.complete(.failure(.cancelled)) }
        transfers[transfer.easy] = transfer
        transfer.loop = self
        let code = curl_multi_add_handle(multi, transfer.easy)
        if code != CURLM_OK {
            transfers[transfer.easy] = nil
            transfer.complete(
                .failure(.transport(code: Int(code.rawValue), message: String(cString: curl_multi_strerror(code)))))
        }
    }

    /// Loop thread: stops `transfer` now with `result` (a cancel, or a failure found in a callback).
    func finish(_ transfer: CurlTransfer, _ error: S3Error) {
        assert(isCurrentThread, "CurlLoop.finish off its loop thread")
        guard transfers.removeValue(forKey: transfer.easy) != nil else { return }
        curl_multi_remove_handle(multi, transfer.easy)
        transfer.complete(.failure(error))
    }

    /// Loop thread: un-pauses a transfer (libcurl may call its write callback from inside).
    func unpause(_ transfer: CurlTransfer) {
        assert(isCurrentThread, "CurlLoop.unpause off its loop thread")
        guard transfers[transfer.easy] != nil else { return }
        curl_easy_pause(transfer.easy, CURLPAUSE_CONT)
    }

    private func run() {
        runningThread.store(UInt(pthread_self()), ordering: .relaxed)
        event_base_loop(base, EVLOOP_NO_EXIT_ON_EMPTY)
        for (_, event) in sockets { event_free(event) }
        sockets = [:]
        event_free(wake)
        event_free(timer)
        curl_multi_cleanup(multi)
        event_base_free(base)
        mailbox.withLock { $0 = [] }  // jobs posted after the loop ended are dropped, never run
    }

    private func drainMailbox() {
        let jobs = mailbox.withLock { jobs in
            defer { jobs = [] }; return jobs
        }
        for job in jobs { job() }
    }

    /// libcurl wants `socket` watched for `what` (or no more).
    private func watch(_ socket: Int32, what: Int32) {
        if let old = sockets.removeValue(forKey: socket) { event_free(old) }
        guard what != CURL_POLL_REMOVE else { return }
        var flags = Int16(EV_PERSIST)
        if what == CURL_POLL_IN || what == CURL_POLL_INOUT { flags |= Int16(EV_READ) }
        if what == CURL_POLL_OUT || what == CURL_POLL_INOUT { flags |= Int16(EV_WRITE) }
        let context = Unmanaged.passUnretained(self).toOpaque()
        guard
            let event = event_new(
                base, socket, flags,
                { fd, events, context in
                    var mask: Int32 = 0
                    if events & Int16(EV_READ) != 0 { mask |= CURL_CSELECT_IN }
                    if events & Int16(EV_WRITE) != 0 { mask |= CURL_CSELECT_OUT }
                    CurlLoop.from(context).act(on: fd, mask: mask)
                }, context)
        else { return }
        event_add(event, nil)
        sockets[socket] = event
    }

    private func setTimer(_ milliseconds: Int) {
        if milliseconds < 0 {
            event_del(timer)
            return
        }
        var tv = timeval(tv_sec: milliseconds / 1000, tv_usec: (milliseconds % 1000) * 1000)
        event_add(timer, &tv)
    }

    private func timerFired() { act(on: CURL_SOCKET_TIMEOUT, mask: 0) }

    private func act(on socket: Int32, mask: Int32) {
        var running: Int32 = 0
        curl_multi_socket_action(multi, socket, mask, &running)
        collectFinished()
    }

    private func collectFinished() {
        var left: Int32 = 0
        while let message = curl_multi_info_read(multi, &left) {
            guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle else { continue }
            let code = message.pointee.data.result
            guard let transfer = transfers.removeValue(forKey: easy) else { continue }
            curl_multi_remove_handle(multi, easy)
            transfer.finished(code)
        }
    }
}

private final class JobBox {
    let job: @Sendable () -> Void
    var event: OpaquePointer?
    init(_ job: @escaping @Sendable () -> Void) { self.job = job }
}

/// `curl_global_init` once per process.
let curlGlobalReady: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK
/// libevent's pthreads locking, so other threads may `event_active` the wake-up event.
let eventThreadingReady: Bool = evthread_use_pthreads() == 0
