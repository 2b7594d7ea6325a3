/// Placeholder for the `tooltool-server` command until the server lands.
public enum ServerCommand {
    public static func main() {
        print("tooltool-server: not implemented yet")
    }
}
