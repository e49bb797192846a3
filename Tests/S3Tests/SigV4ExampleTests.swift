import Foundation
import Testing

@testable import ECGS3

/// AWS's published SigV4 examples for S3, reproduced byte for byte. Credentials, bucket and times are
/// the ones in "Authenticating Requests: Using Query Parameters" and "Using the Authorization Header".
@Suite("SigV4: AWS's published S3 examples")
struct SigV4ExampleTests {
    static let credentials = S3Credentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    /// 2013-05-24T00:00:00Z
    static let exampleDate = Date(timeIntervalSince1970: 1_369_353_600)
    static let awsExample = S3Configuration(
        bucket: "examplebucket",
        region: "us-east-1",
        endpoint: S3Endpoint.aws(region: "us-east-1"),
        credentials: credentials,
        forcePathStyle: false
    )

    var signer: SigV4Signer { SigV4Signer(credentials: Self.credentials, region: "us-east-1") }

    @Test("the example timestamp is 20130524T000000Z")
    func timestamp() {
        #expect(SigV4.timestamp(Self.exampleDate) == ("20130524T000000Z", "20130524"))
        #expect(SigV4.timestamp(Date(timeIntervalSince1970: 951_825_599)) == ("20000229T115959Z", "20000229"))
        #expect(SigV4.timestamp(Date(timeIntervalSince1970: 0)) == ("19700101T000000Z", "19700101"))
    }

    @Test("presigned GET of examplebucket/test.txt, expires 86400: the documented URL")
    func presignedGetExample() {
        let signed = signer.presign(
            method: "GET",
            scheme: "https",
            host: "examplebucket.s3.amazonaws.com",
            path: "/test.txt",
            expires: 86_400,
            date: Self.exampleDate
        )
        #expect(
            signed.details.canonicalRequest == """
                GET
                /test.txt
                X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host
                host:examplebucket.s3.amazonaws.com

                host
                UNSIGNED-PAYLOAD
                """
        )
        #expect(
            signed.details.stringToSign == """
                AWS4-HMAC-SHA256
                20130524T000000Z
                20130524/us-east-1/s3/aws4_request
                3bfa292879f6447bbcda7001decf97f4a54dc650c8942174ae0a9121cf58ad04
                """
        )
        #expect(signed.details.signature == "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
        #expect(
            signed.url
                == "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
                + "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z"
                + "&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
                + "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
        )
        #expect(signed.expiresAt == Self.exampleDate.addingTimeInterval(86_400))
    }

    @Test("the S3 client makes the same URL from bucket and key (virtual-host style on AWS's endpoint)")
    func clientPresignedGetExample() {
        let client = S3Client(configuration: Self.awsExample)
        let request = client.presignedGet(key: "test.txt", expires: 86_400, date: Self.exampleDate)
        #expect(request.method == "GET")
        #expect(request.headers.isEmpty)
        #expect(request.url.hasPrefix("https://examplebucket.s3.us-east-1.amazonaws.com/test.txt?"))
        // The documented URL uses the global endpoint; with it, the client reproduces the signature exactly.
        var global = Self.awsExample
        global.endpoint = try! S3Endpoint(url: "https://s3.amazonaws.com")
        let documented = S3Client(configuration: global).presignedGet(key: "test.txt", expires: 86_400, date: Self.exampleDate)
        #expect(documented.url.hasSuffix("&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"))
        #expect(documented.url.hasPrefix("https://examplebucket.s3.amazonaws.com/test.txt?"))
    }

    @Test("header-signed GET object with Range bytes=0-9: the documented signature")
    func headerSignedGetObjectExample() {
        let signed = signer.sign(
            method: "GET",
            host: "examplebucket.s3.amazonaws.com",
            path: "/test.txt",
            headers: [("Range", "bytes=0-9")],
            payloadHash: SigV4.emptyPayloadHash,
            date: Self.exampleDate
        )
        #expect(
            signed.details.canonicalRequest == """
                GET
                /test.txt

                host:examplebucket.s3.amazonaws.com
                range:bytes=0-9
                x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                x-amz-date:20130524T000000Z

                host;range;x-amz-content-sha256;x-amz-date
                e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                """
        )
        #expect(
            signed.details.stringToSign == """
                AWS4-HMAC-SHA256
                20130524T000000Z
                20130524/us-east-1/s3/aws4_request
                7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972
                """
        )
        #expect(
            signed.authorization
                == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
                + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
                + "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        )
    }

    @Test("header-signed PUT object test$file.text with a body: the documented signature")
    func headerSignedPutObjectExample() {
        let body = Data("Welcome to Amazon S3.".utf8)
        let payloadHash = SigV4.sha256Hex(body)
        #expect(payloadHash == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")
        let signed = signer.sign(
            method: "PUT",
            host: "examplebucket.s3.amazonaws.com",
            path: "/" + SigV4.uriEncode("test$file.text", encodeSlash: false),
            headers: [("Date", "Fri, 24 May 2013 00:00:00 GMT"), ("x-amz-storage-class", "REDUCED_REDUNDANCY")],
            payloadHash: payloadHash,
            date: Self.exampleDate
        )
        #expect(signed.details.canonicalRequest.hasPrefix("PUT\n/test%24file.text\n\n"))
        #expect(signed.details.stringToSign.hasSuffix("\n9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d"))
        #expect(signed.details.signedHeaders == "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class")
        #expect(signed.details.signature == "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")
    }

    @Test("header-signed GET bucket lifecycle (?lifecycle) and list objects (?max-keys=2&prefix=J): the documented signatures")
    func headerSignedQueryExamples() {
        let lifecycle = signer.sign(
            method: "GET",
            host: "examplebucket.s3.amazonaws.com",
            path: "/",
            query: [("lifecycle", "")],
            payloadHash: SigV4.emptyPayloadHash,
            date: Self.exampleDate
        )
        #expect(lifecycle.details.canonicalRequest.hasPrefix("GET\n/\nlifecycle=\n"))
        #expect(lifecycle.details.signature == "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543")
        let list = signer.sign(
            method: "GET",
            host: "examplebucket.s3.amazonaws.com",
            path: "/",
            query: [("prefix", "J"), ("max-keys", "2")],
            payloadHash: SigV4.emptyPayloadHash,
            date: Self.exampleDate
        )
        #expect(list.details.canonicalRequest.hasPrefix("GET\n/\nmax-keys=2&prefix=J\n"))
        #expect(list.details.signature == "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")
    }

    @Test("the signing key is derived once per (date, region, service) and reused")
    func signingKeyCache() {
        let signer = self.signer
        for _ in 0..<5 {
            _ = signer.presign(method: "GET", scheme: "https", host: "h", path: "/k", expires: 60, date: Self.exampleDate)
        }
        #expect(signer.signingKeyDerivations == 1)
        _ = signer.presign(method: "GET", scheme: "https", host: "h", path: "/k", expires: 60, date: Self.exampleDate.addingTimeInterval(86_399))
        #expect(signer.signingKeyDerivations == 1)
        let nextDay = signer.presign(
            method: "GET",
            scheme: "https",
            host: "h",
            path: "/k",
            expires: 60,
            date: Self.exampleDate.addingTimeInterval(86_400)
        )
        #expect(signer.signingKeyDerivations == 2)
        // A key from the cache signs exactly like a fresh one.
        let fresh = SigV4Signer(credentials: Self.credentials, region: "us-east-1")
            .presign(method: "GET", scheme: "https", host: "h", path: "/k", expires: 60, date: Self.exampleDate.addingTimeInterval(86_400))
        #expect(nextDay.url == fresh.url)
    }
}
