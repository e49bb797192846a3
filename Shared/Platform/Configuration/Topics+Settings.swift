import ECGEvents

extension Topics {
    /// The topic names with their `TOPIC_*` overrides, read through `settings` (so that they are
    /// validated and reported like every other variable).
    package init(settings: EnvironmentSettings) {
        self.init { variable, defaultName in settings.string(variable, default: defaultName) }
    }
}
