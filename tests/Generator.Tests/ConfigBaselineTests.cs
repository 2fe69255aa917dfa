using StateDict.Generator.Tests.Infrastructure;

namespace StateDict.Generator.Tests;

/// <summary>
/// Code generated for [StateDictConfig] classes, compared with checked-in baselines (UPDATE_BASELINES=1 rewrites them)
/// and compiled with the runtime under nullable and every warning wave: it must add no warning or error.
/// </summary>
public class ConfigBaselineTests
{
    private static IReadOnlyDictionary<string, string> Generate(string source, string path, string json) =>
        ConfigRunner.Run(source, ConfigRunner.File(path, json)).CleanSources();

    [Fact]
    public void TinyGpt_config()
    {
        var sources = Generate("""
            using StateDict;

            namespace TinyGpt;

            /// <summary>The model's hyperparameters.</summary>
            [StateDictConfig("model/config.json")]
            public partial class TinyConfig;
            """, "model/config.json", TestConfigs.TinyGpt);

        Baselines.Verify(sources);
    }

    [Fact]
    public void Config_with_nested_objects_lists_dictionaries_and_nulls()
    {
        var sources = Generate("""
            using StateDict;

            namespace App.Models;

            /// <summary>The app's configs.</summary>
            public static partial class Configs
            {
                [StateDictConfig("rich/config.json")]
                internal sealed partial class RichConfig;
            }
            """, "rich/config.json", TestConfigs.Rich);

        Baselines.Verify(sources);
    }
}
