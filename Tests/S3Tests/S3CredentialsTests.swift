import Foundation
import S3
import TestSupport
import Testing

/// Where credentials come from: the environment first, then the shared-credentials file and its profiles.
@Suite struct S3CredentialsTests {
    let directory = TemporaryDirectory(prefix: "aws")

    func file(_ text: String) throws -> String {
        let path = directory.file("credentials")
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    static let shared = """
        # a comment
        [default]
        aws_access_key_id = AKIDDEFAULT
        aws_secret_access_key = secret/default

        [profile ci]
        aws_access_key_id=AKIDCI
        aws_secret_access_key=secret+ci
        aws_session_token = token-ci
        """

    @Test func theEnvironmentComesFirst() throws {
        let path = try file(Self.shared)
        let credentials = try S3Credentials.resolve(environment: [
            "AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "secret-env", "AWS_SESSION_TOKEN": "t",
            "AWS_SHARED_CREDENTIALS_FILE": path
        ])
        #expect(credentials == S3Credentials(accessKeyID: "AKIDENV", secretAccessKey: "secret-env", sessionToken: "t"))
        #expect(!credentials.description.contains("secret"))
    }

    @Test func profilesComeFromTheSharedFile() throws {
        let path = try file(Self.shared)
        #expect(
            try S3Credentials.resolve(environment: ["AWS_SHARED_CREDENTIALS_FILE": path])
                == S3Credentials(accessKeyID: "AKIDDEFAULT", secretAccessKey: "secret/default"))
        #expect(
            try S3Credentials.resolve(profile: "ci", environment: ["AWS_SHARED_CREDENTIALS_FILE": path])
                == S3Credentials(accessKeyID: "AKIDCI", secretAccessKey: "secret+ci", sessionToken: "token-ci"))
        #expect(
            try S3Credentials.resolve(environment: ["AWS_SHARED_CREDENTIALS_FILE": path, "AWS_PROFILE": "ci"])
                .accessKeyID
                == "AKIDCI")
    }

    @Test func whatIsMissingIsSaid() throws {
        let path = try file(Self.shared)
        #expect(throws: S3Error.configuration("no profile [nope] in \(path)")) {
            try S3Credentials.resolve(profile: "nope", environment: ["AWS_SHARED_CREDENTIALS_FILE": path])
        }
        #expect(throws: S3Error.configuration("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not")) {
            try S3Credentials.resolve(environment: ["AWS_ACCESS_KEY_ID": "AKID"])
        }
        #expect(throws: S3Error.self) {
            try S3Credentials.resolve(environment: ["AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials"])
        }
    }
}
