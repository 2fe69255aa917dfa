namespace StateDict.Generator
{
    /// <summary>Names of the pipeline steps, so tests can assert each step's caching.</summary>
    internal static class TrackingNames
    {
        public const string Schemas = nameof(Schemas);
        public const string Targets = nameof(Targets);
        public const string Resolved = nameof(Resolved);
        public const string Specs = nameof(Specs);
        public const string Diagnostics = nameof(Diagnostics);
        public const string ModuleTargets = nameof(ModuleTargets);
        public const string ModulesResolved = nameof(ModulesResolved);
        public const string ModuleSpecs = nameof(ModuleSpecs);
    }
}
