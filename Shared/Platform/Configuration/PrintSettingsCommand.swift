import ArgumentParser
import Foundation

/// What differs between the services' `print-settings` subcommands: the name, the Kafka use and the
/// settings code. The executable's command type conforms and lists `PrintSettingsCommand<Self>`.
package protocol SettingsReporting {
    /// The service's name in the report (`auth-service`, `caption-worker`).
    static var reportedName: String { get }
    /// The topics the service writes and reads, by their default names, and its consumer groups.
    static var kafkaUse: SettingsReport.KafkaUse { get }
    /// Reads every setting the service reads at start, through the same code, before it connects anywhere.
    static func readAllSettings(_ settings: EnvironmentSettings)
}

/// `<service> print-settings --json`: the variables the service reads, its HTTP port and its Kafka use,
/// as JSON (`SettingsReport`), read by infra/validate.
package struct PrintSettingsCommand<Service: SettingsReporting>: ParsableCommand {
    package static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "print-settings",
            abstract: "Print the variables \(Service.reportedName) reads, its port and the Kafka topics and groups it uses, as JSON, and exit."
        )
    }

    @Flag(help: "Print JSON (the only format).")
    var json = false

    package init() {}

    package func run() throws {
        let report = SettingsReport(service: Service.reportedName, kafka: Service.kafkaUse, read: Service.readAllSettings)
        FileHandle.standardOutput.write(try report.json())
    }
}
