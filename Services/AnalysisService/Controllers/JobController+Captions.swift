import ECGEvents
import ECGPlatform
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// `GET /api/v1/ml/jobs/{job_id}/captions.vtt` and `.srt`: a completed job's captions as files.
extension JobController {
    func addCaptionRoutes(to routes: DocumentedRoutes<RouterGroup<ECGRequestContext>>) {
        let responses: (String, String) -> [Int: OpenAPIOperation.Response] = { format, contentType in
            [
                200: .init(format, .text, contentType: contentType),
                404: .init("Not the caller's job (job_not_found)", .error),
                409: .init("The job has not completed (job_not_completed)", .error),
            ]
        }
        routes.get(
            "/api/v1/ml/jobs/{job_id}/captions.vtt",
            OpenAPIOperation(
                "The job's captions as WebVTT: a STYLE block and one cue class per emotion (<c.excited>…</c>) and intensity (soft, medium, strong); ?style=none leaves the STYLE block out for tools that stop at it (ffmpeg 5.1)",
                responses: responses("WebVTT", "text/vtt"),
                query: [("style", false)]
            ),
            use: webVTT
        )
        routes.get(
            "/api/v1/ml/jobs/{job_id}/captions.srt",
            OpenAPIOperation("The job's captions as SubRip, plain text", responses: responses("SubRip", "application/x-subrip")),
            use: subRip
        )
    }

    @Sendable func webVTT(request: Request, context: ECGRequestContext) async throws -> Response {
        let withStyle = request.uri.queryParameters.get("style") != "none"
        return try await captionFile(context, contentType: WebVTT.contentType, fileExtension: "vtt") { WebVTT.render($0, withStyle: withStyle) }
    }

    @Sendable func subRip(request: Request, context: ECGRequestContext) async throws -> Response {
        try await captionFile(context, contentType: SubRip.contentType, fileExtension: "srt", render: SubRip.render)
    }

    private func captionFile(
        _ context: ECGRequestContext,
        contentType: String,
        fileExtension: String,
        render: (AnalysisResult) -> String
    ) async throws -> Response {
        let job = try await ownedJob(context)
        guard job.state.status == .completed, let result = job.state.result else {
            let now = job.state.status == .failed ? "failed" : "is still processing"
            throw APIError(.conflict, code: "job_not_completed", detail: "The job \(now); captions exist once it has completed.")
        }
        let name = "ecg-captions-\(job.id.description).\(fileExtension)"
        return Response(
            status: .ok,
            headers: [
                .contentType: contentType,
                .contentDisposition: "inline; filename=\"\(name)\"",
                .cacheControl: "private, no-cache",
            ],
            body: ResponseBody(byteBuffer: ByteBuffer(string: render(result)))
        )
    }
}
