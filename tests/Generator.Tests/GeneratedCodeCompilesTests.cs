using StateDict.Generator.Tests.Infrastructure;

namespace StateDict.Generator.Tests;

/// <summary>Unusual but legal inputs: the generated code must still compile with no warning or error.</summary>
public class GeneratedCodeCompilesTests
{
    private static GeneratorOutcome AssertCompiles(string source, string json, string schemaPath = "m.schema.json")
    {
        var outcome = GeneratorRunner.Run(source, GeneratorRunner.Schema(schemaPath, json));
        Assert.DoesNotContain(outcome.Diagnostics, d => d.Severity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error);
        Assert.NotEmpty(outcome.Sources);
        Assert.Empty(outcome.CompilationProblems);
        return outcome;
    }

    private const string Net = """
        using StateDict;
        [StateDictSchema("m.schema.json")]
        internal partial class Net;
        """;

    [Fact]
    public void Keys_with_line_breaks_and_control_characters_do_not_break_doc_comments()
    {
        AssertCompiles(Net, """{"format": "statedict-schema/1", "tensors": {"a\nb.weight": {"dtype": "float32", "shape": [1]}, "c\r\u2028d": {"dtype": "float32", "shape": [1]}, "tab\there": {"dtype": "float32", "shape": [1]}}}""");
    }

    [Fact]
    public void An_empty_schema_gives_a_class_with_no_tensors()
    {
        var outcome = AssertCompiles(Net, """{"format": "statedict-schema/1", "tensors": {}}""");

        Assert.Contains("new global::StateDict.SchemaEntry[]\n    {\n    };", outcome.Sources.Values.Single(), StringComparison.Ordinal);
    }

    [Fact]
    public void Deeply_nested_lists_compile()
    {
        var keys = new List<string>();
        for (int a = 0; a < 2; a++)
            for (int b = 0; b < 2; b++)
                for (int c = 0; c < 2; c++)
                    for (int d = 0; d < 2; d++)
                        keys.Add($"l1.{a}.l2.{b}.l3.{c}.l4.{d}.l5.0.l6.0.l7.0.w");

        AssertCompiles(Net, TestSchemas.Keys(keys.ToArray()));
    }

    [Fact]
    public void Names_that_collide_at_every_level_compile()
    {
        AssertCompiles(Net, TestSchemas.Keys(
            "net", "fc.fc.weight", "fc.fc_module.weight", "fc_module.weight", "0.weight", "item0.weight",
            "equals", "get_hash_code", "dispose", "report", "from", "load", "schema.schema"));
    }

    [Fact]
    public void A_class_named_with_a_keyword_compiles()
    {
        AssertCompiles("""
            using StateDict;
            namespace @class.@event
            {
                internal partial class @struct
                {
                    [StateDictSchema("m.schema.json")]
                    internal partial class @record;
                }
            }
            """, TestSchemas.Keys("w"));
    }

    [Fact]
    public void Classes_nested_in_structs_records_and_interfaces_compile()
    {
        AssertCompiles("""
            using StateDict;
            internal partial struct S
            {
                internal partial record class R
                {
                    internal partial interface I
                    {
                        [StateDictSchema("m.schema.json")]
                        internal partial class Net;
                    }
                }
            }
            """, TestSchemas.Keys("w"));
    }

    [Fact]
    public void A_user_member_with_a_key_name_is_kept_and_the_generated_one_renamed()
    {
        var outcome = AssertCompiles("""
            using StateDict;
            [StateDictSchema("m.schema.json")]
            internal partial class Net
            {
                public int Fc => 1;
                public class Weight;
            }
            """, TestSchemas.Keys("fc.weight", "weight"));

        Assert.Contains("public Fc_2Module Fc_2 { get; }", outcome.Sources.Values.Single(), StringComparison.Ordinal);
    }

    [Fact]
    public void Every_dtype_compiles_with_its_element_type()
    {
        string[] dtypes = ["float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint8", "bool",
            "complex64", "complex128", "uint16", "uint32", "uint64", "float8_e4m3fn", "float8_e5m2"];

        AssertCompiles(Net, TestSchemas.Of(dtypes.Select(d => (d, d, new long[] { 2 })).ToArray()));
    }
}
