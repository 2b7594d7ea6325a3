import CHTTPParser

/// Raises http_parser's process-wide head limit (80 KiB by default) above `bytes`, so the layer's own limit,
/// with its clearer 431 answer, is the one that applies.
func raiseParserHeaderLimit(to bytes: Int) {
    http_parser_set_max_header_size(UInt32(clamping: bytes + bytes / 4 + 1024))
}
