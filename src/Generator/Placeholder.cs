namespace StateDict.Generator
{
    /// <summary>The source generator arrives with its own issue; this assembly is packed into analyzers/dotnet/cs.</summary>
    internal static class GeneratorInfo
    {
        public const string Name = "StateDict.Generator";
    }
}
