import Foundation

/// Where a PocketSphinx model's three parts live: the acoustic model (a directory), the n-gram language
/// model and the pronunciation dictionary.
package struct SpeechModel: Sendable, Equatable {
    package var name: String
    package var language: String
    package var acousticModel: URL
    package var languageModel: URL
    package var dictionary: URL

    /// Debian's `pocketsphinx-en-us`: US English, in `/usr/share/pocketsphinx/model/en-us`.
    package static let debianDirectory = "/usr/share/pocketsphinx/model/en-us"

    /// The US English model in the layout `pocketsphinx-en-us` installs.
    package static func english(directory: String = debianDirectory) -> SpeechModel {
        let root = URL(fileURLWithPath: directory, isDirectory: true)
        return SpeechModel(
            name: "cmusphinx-en-us-5.2 (PocketSphinx en-us acoustic model, en-us.lm.bin, cmudict-en-us.dict)",
            language: "en",
            acousticModel: root.appendingPathComponent("en-us", isDirectory: true),
            languageModel: root.appendingPathComponent("en-us.lm.bin"),
            dictionary: root.appendingPathComponent("cmudict-en-us.dict")
        )
    }

    func checkFilesExist() throws {
        for file in [acousticModel, languageModel, dictionary] where !FileManager.default.fileExists(atPath: file.path) {
            throw PocketSphinxDecoder.Failure.modelNotLoaded(
                "\(file.path) does not exist (install pocketsphinx-en-us, or set POCKETSPHINX_MODEL_DIR)"
            )
        }
    }
}
