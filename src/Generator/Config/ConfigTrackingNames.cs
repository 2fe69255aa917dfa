namespace StateDict.Generator.Config
{
    /// <summary>Names of the config generator's pipeline steps, so tests can assert each step's caching.</summary>
    internal static class ConfigTrackingNames
    {
        public const string ConfigTargets = nameof(ConfigTargets);
        public const string ConfigFiles = nameof(ConfigFiles);
        public const string ConfigResolved = nameof(ConfigResolved);
        public const string ConfigSpecs = nameof(ConfigSpecs);
        public const string ConfigDiagnostics = nameof(ConfigDiagnostics);
    }
}
