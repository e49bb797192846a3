import ECGEvents
import Synchronization
import Testing

@testable import CaptionWorker

@Suite("Progress by stage")
struct ProgressReporterTests {
    @Test("each stage is reported when it begins; within a stage at most one event per interval; in order")
    func throttledInOrder() async {
        let published = Mutex<[JobProgress]>([])
        let jobID = JobID()
        let reporter = ProgressReporter(jobID: jobID, interval: .seconds(60)) { progress in
            published.withLock { $0.append(progress) }
        }
        reporter.enqueue(.downloading, 0)
        reporter.enqueue(.decodingAudio, 0)
        for share in stride(from: 0.0, through: 1.0, by: 0.01) { reporter.enqueue(.recognising, share) }
        reporter.enqueue(.buildingCaptions, 0)
        await reporter.drain()
        let events = published.withLock { $0 }
        #expect(events.map(\.stage) == ["downloading", "decoding_audio", "recognising", "building_captions"])
        #expect(events.map(\.progress) == [5, 10, 10, 95])
        #expect(events.allSatisfy { $0.jobID == jobID })
    }

    @Test("recognising moves from 10 to 90 with the share of audio done, and never past 99")
    func recognisingScale() {
        #expect(ProgressReporter.progress(.recognising, 0) == 10)
        #expect(ProgressReporter.progress(.recognising, 0.5) == 50)
        #expect(ProgressReporter.progress(.recognising, 1) == 90)
        #expect(ProgressReporter.progress(.recognising, 7) == 90)
        #expect(ProgressReporter.progress(.buildingCaptions, 1) < 100)
    }

    @Test("with no throttle every rising share is published")
    func unthrottled() async {
        let published = Mutex<[Int]>([])
        let reporter = ProgressReporter(jobID: JobID(), interval: .zero) { progress in
            published.withLock { $0.append(progress.progress) }
        }
        for share in [0.0, 0.25, 0.25, 0.5, 1.0] { reporter.enqueue(.recognising, share) }
        await reporter.drain()
        #expect(published.withLock { $0 } == [10, 30, 50, 90])
    }
}
