/// An upload whose bytes can be read back while they are still arriving (a mirror serves a blob it is fetching
/// to its first requesters before the blob is verified). Only local stores offer it.
public protocol ReadableUpload: BlobUpload {
    /// A new descriptor on the upload's temp file, to read with `pread` up to `bytesWritten`; it stays readable
    /// after the upload is committed or aborted. The caller closes it. Throws `.uploadClosed` once the upload ended.
    func openReader() throws(StorageError) -> Int32
}
