import ECGPlatform

extension UploadController {
    static let unauthorized = OpenAPIOperation.Response("Missing, invalid or expired bearer token", .error)
    static let notFound = OpenAPIOperation.Response("Not the caller's video, or no such video (`video_not_found`)", .error)
    static let notUploaded = OpenAPIOperation.Response(
        "Nothing was uploaded under this key yet (`upload_not_found`); the object's size or type differs from the declared one and it was deleted (`upload_size_mismatch`, `upload_type_mismatch`); or it changed after complete (`upload_changed`)",
        .error
    )
    static let tooLarge = OpenAPIOperation.Response("Larger than MAX_UPLOAD_BYTES (`file_too_large`)", .error)
    static let storageDown = OpenAPIOperation.Response("S3 is unreachable (`storage_unavailable`)", .error)

    static let generateURLOperation = OpenAPIOperation(
        "A presigned S3 PUT URL for a new video; stores a pending record for the caller",
        body: .object(
            [
                "filename": .string(minLength: 1, maxLength: 255),
                "content_type": .string(enumValues: VideoContentType.allowed),
                "size_bytes": .integer(minimum: 1),
            ],
            required: ["filename", "content_type", "size_bytes"]
        ),
        responses: [
            200: .init(
                "Upload URL: PUT the bytes to it with the headers in upload_headers",
                .record([
                    "upload_url": .text, "file_key": .text, "expires_in": .integer(), "upload_method": .string(enumValues: ["PUT"]),
                    "upload_headers": .object([:]),
                ])
            ),
            400: .init("Malformed JSON (`invalid_json`)", .error),
            401: unauthorized,
            413: .init(
                "size_bytes over MAX_UPLOAD_BYTES (`file_too_large`), over the user's MAX_USER_STORAGE_BYTES (`storage_quota_exceeded`), or a body over 64 KiB",
                .error
            ),
            422: .init("A field failed validation (`validation_error`), or an unsupported content type (`unsupported_content_type`)", .error),
        ]
    )

    static let downloadURLOperation = OpenAPIOperation(
        "A presigned S3 GET URL for one of the caller's videos; file_key may contain slashes, raw or %2F-encoded",
        responses: [
            200: .init("Download URL", .record(["download_url": .text, "expires_in": .integer()])),
            401: unauthorized,
            404: notFound,
            409: notUploaded,
            503: storageDown,
        ]
    )

    static let completeOperation = OpenAPIOperation(
        "Marks an upload finished once the object is in S3 (HEAD); announces video.uploaded once",
        body: .record(["file_key": .string(minLength: 1)]),
        responses: [
            200: .init(
                "Uploaded",
                .record(["file_key": .text, "status": .string(enumValues: ["uploaded"]), "size_bytes": .integer(), "content_type": .text])
            ),
            400: .init("Malformed JSON (`invalid_json`)", .error),
            401: unauthorized,
            404: notFound,
            409: notUploaded,
            413: tooLarge,
            422: .init("A field failed validation (`validation_error`)", .error),
            503: storageDown,
        ]
    )

    static let videosOperation = OpenAPIOperation(
        "The caller's videos, newest first, a page at a time: pass next_cursor back as cursor for the next page",
        responses: [
            200: .init(
                "Videos",
                .record([
                    // size_bytes is left out until the video is uploaded (not null).
                    "items": .array(
                        .object(
                            [
                                "file_key": .text, "filename": .text, "content_type": .text, "status": .string(enumValues: ["pending", "uploaded"]),
                                "size_bytes": .integer(), "created_at": .dateTime,
                            ],
                            required: ["file_key", "filename", "content_type", "status", "created_at"]
                        )
                    ),
                    "next_cursor": .nullable(.text),
                ])
            ),
            401: unauthorized,
            422: .init("limit outside 1–100, or a cursor this list did not return (`validation_error`)", .error),
        ],
        query: [("limit", false), ("cursor", false)]
    )

    static let deleteOperation = OpenAPIOperation(
        "Deletes one of the caller's videos: the S3 object and the record; announces video.deleted (its analysis jobs go too)",
        responses: [
            204: .init("Deleted"),
            401: unauthorized,
            404: notFound,
            503: storageDown,
        ]
    )
}
