using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace StateDict.Generator.Diagnostics
{
    /// <summary>Every diagnostic the generator reports. Ids are stable: never reuse or renumber one.</summary>
    internal static class Descriptors
    {
        private const string Category = "StateDict";
        // No help links: the project has no public repository yet, and an invented URL is worse than none. Every id is
        // described in docs/diagnostics.md (packed with the package's README).

        public static readonly DiagnosticDescriptor SchemaNotFound = Error("SD0001", "Schema file not found",
            "Schema file '{0}' is not in AdditionalFiles{1}",
            "Add the schema to the project with <AdditionalFiles Include=\"path/to/model.schema.json\" />; the attribute path is relative to the project directory.");

        public static readonly DiagnosticDescriptor MalformedJson = Error("SD0002", "Malformed schema JSON",
            "Schema '{0}' is not valid JSON: {1}",
            "Fix the JSON at the reported line and column, or regenerate the schema with 'statedict schema model.pth -o model.schema.json'.");

        public static readonly DiagnosticDescriptor NotASchema = Error("SD0003", "Not a StateDict schema",
            "Schema '{0}': {1}",
            "A schema is {\"format\": \"statedict-schema/1\", \"tensors\": {\"key\": {\"dtype\": \"float32\", \"shape\": [..]}}}, as 'statedict schema' writes it.");

        public static readonly DiagnosticDescriptor UnknownDType = Error("SD0004", "Unknown dtype",
            "Tensor '{0}' has unknown dtype '{1}'",
            "Use a PyTorch dtype name: float32, float64, float16, bfloat16, int64, int32, int16, int8, uint8, bool, complex64, complex128, uint16, uint32, uint64, float8_e4m3fn, float8_e5m2.");

        public static readonly DiagnosticDescriptor BadShape = Error("SD0005", "Invalid shape",
            "Tensor '{0}' has an invalid shape: {1}",
            "A shape is a JSON array of non-negative integers, [] for a scalar.");

        public static readonly DiagnosticDescriptor DuplicateKey = Error("SD0006", "Duplicate key",
            "Key '{0}' appears more than once in the schema",
            "Each tensor key may appear once.");

        public static readonly DiagnosticDescriptor TensorAndModule = Error("SD0007", "Key is both a tensor and a module",
            "Key '{0}' is a tensor but also the module prefix of '{1}'",
            "A key cannot be a tensor and contain other tensors; rename one of them.");

        public static readonly DiagnosticDescriptor InvalidKey = Error("SD0008", "Invalid key",
            "Key '{0}' is invalid: {1}",
            "Keys are dotted paths such as 'layer1.0.conv1.weight' with no empty segments.");

        public static readonly DiagnosticDescriptor NotPartial = Error("SD0010", "Class must be partial",
            "'{0}' has [StateDictSchema] but is not partial",
            "Declare the class as 'partial' so the generator can add its members.");

        public static readonly DiagnosticDescriptor Generic = Error("SD0011", "Class must not be generic",
            "'{0}' has [StateDictSchema] but is generic",
            "Bind the schema to a non-generic class.");

        public static readonly DiagnosticDescriptor ContainerNotPartial = Error("SD0012", "Containing type must be partial",
            "'{0}' is nested in '{1}', which is not partial",
            "Make every containing type partial.");

        public static readonly DiagnosticDescriptor UnknownTensorKey = Error("SD0013", "Unknown tensor key",
            "The schema '{1}' has no key '{0}'{2}",
            "[TensorKey] must name a key of the schema; check the spelling.");

        public static readonly DiagnosticDescriptor ElementTypeMismatch = Error("SD0014", "Element type does not match the dtype",
            "'{0}' is {1} in the schema, so the property must be TensorView<{2}>, not {3}",
            "The element type follows the dtype (float32 float, float64 double, float16 Half, bfloat16 BFloat16, int64 long, int32 int, uint8 byte, bool bool), or converts on load: a floating dtype to float, double, Half or BFloat16, an integer dtype to float or double.");

        public static readonly DiagnosticDescriptor BadTensorKeyProperty = Error("SD0015", "Invalid [TensorKey] property",
            "[TensorKey] property '{0}' must be a non-static partial property with only a getter, of type TensorView<T>, SparseTensor<T>, QuantizedTensor or TensorInfo",
            "Declare it as [TensorKey(\"key\")] public partial TensorView<float> Name { get; } with the element type of the key's dtype.");

        public static readonly DiagnosticDescriptor DuplicateTensorKey = Error("SD0016", "Key bound twice",
            "Key '{0}' is bound by more than one [TensorKey] property",
            "Bind each key once.");

        public static readonly DiagnosticDescriptor NotAConcreteClass = Error("SD0017", "Target must be a class that can be instantiated",
            "'{0}' has [StateDictSchema] but is a {1}; it must be a non-static, non-abstract partial class",
            "The generator adds a constructor, Load and Dispose; use a plain partial class.");

        public static readonly DiagnosticDescriptor BadConvertTo = Error("SD0018", "Unsupported ConvertTo type",
            "ConvertTo = typeof({0}) is not supported; use float, double, Half or BFloat16",
            "Floating tensors convert on load to float, double, System.Half or StateDict.BFloat16.");

        public static readonly DiagnosticDescriptor ChunkDoesNotDivide = Error("SD0030", "Chunks do not divide dimension 0",
            "'{0}' has shape [{1}], which does not split into {2} equal chunks along dimension 0",
            "Chunk/Chunks is torch.chunk(tensor, Chunks, dim=0) with equal pieces: Chunks must divide the first dimension.");

        public static readonly DiagnosticDescriptor ChunkOutOfRange = Error("SD0031", "Chunk index out of range",
            "Chunk = {0} with Chunks = {1} on '{2}': Chunks must be at least 1 and Chunk from 0 to Chunks - 1",
            "Chunk picks one of the Chunks equal pieces of dimension 0, counting from 0.");

        public static readonly DiagnosticDescriptor FallbackMissing = Error("SD0032", "Fallback key not in the schema",
            "Fallback '{0}' of '{1}' is not a key of the schema '{2}'{3}",
            "A fallback (a tied weight) must be a key of the schema; it is read when the property's own key is absent.");

        public static readonly DiagnosticDescriptor FallbackDiffers = Error("SD0033", "Fallback of another shape or dtype",
            "Fallback '{0}' is {1} [{2}] but '{3}' is {4} [{5}]; a fallback must have the key's dtype and shape",
            "A tied weight stands in for the key, so both must have the same dtype and shape.");

        public static readonly DiagnosticDescriptor ModuleListEmpty = Error("SD0034", "Module list has no items",
            "No key of the schema '{1}' starts with '{0}.0.'{2}",
            "A [ModuleList(\"prefix\")] binds prefix.0., prefix.1., …; the schema must have at least item 0.");

        public static readonly DiagnosticDescriptor ModuleListGaps = Error("SD0035", "Module list has gaps",
            "Module list '{0}' has items {1} in the schema '{2}' but not {3}",
            "A [ModuleList] binds consecutive items 0, 1, 2, …; bind irregular keys with [Module] or [TensorKey] instead.");

        public static readonly DiagnosticDescriptor BadModuleType = Error("SD0036", "Invalid module class",
            "'{0}' cannot be bound as a module: {1}",
            "A module class is a non-generic partial class with [StateDictModule], declared in this project.");

        public static readonly DiagnosticDescriptor BadModuleProperty = Error("SD0037", "Invalid [Module] or [ModuleList] property",
            "{1} property '{0}' must be a non-static partial property with only a getter, of type {2}",
            "Declare it as [Module(\"model.norm\")] public partial Norm FinalNorm { get; } or [ModuleList(\"model.layers\")] public partial IReadOnlyList<Block> Layers { get; }.");

        public static readonly DiagnosticDescriptor BadKindEntry = Error("SD0050", "Malformed sparse, quantized or meta schema entry",
            "Schema entry '{0}': {1}",
            "A sparse tensor's components carry \"layout\", \"of\", \"component\" and \"dense_shape\"; a quantized tensor \"quantized_dtype\", \"qscheme\" and \"quantized_shape\"; a meta tensor \"device\": \"meta\". Regenerate the schema with 'statedict schema'.");

        public static readonly DiagnosticDescriptor ConvertToSkipsKind = new DiagnosticDescriptor("SD0051", "ConvertTo does not apply to a sparse or quantized tensor",
            "ConvertTo does not apply to '{0}', {1}: it is bound as {2}",
            Category, DiagnosticSeverity.Warning, isEnabledByDefault: true,
            description: "ConvertTo converts dense floating tensors on load. A sparse tensor is bound with its values' element type, a quantized one as QuantizedTensor (Dequantize() gives float32).");

        public static readonly DiagnosticDescriptor TensorKindMismatch = Error("SD0052", "Property type does not match the tensor's kind",
            "'{0}' is {1} in the schema, so the property must be {2}, not {3}",
            "A dense tensor binds as TensorView<T>, a sparse one as SparseTensor<T> of its values' element type, a quantized one as QuantizedTensor, a meta one (no data) as TensorInfo.");

        public static readonly DiagnosticDescriptor KindOption = Error("SD0053", "Chunk or Fallback on a sparse, quantized or meta tensor",
            "{0} applies to dense tensors, but '{1}' is {2}",
            "Chunk, Chunks and Fallback read dense tensors only; bind the tensor whole, with the property type of its kind.");

        public static readonly DiagnosticDescriptor Renamed = new DiagnosticDescriptor("SD0020", "Generated name changed",
            "Key segment '{0}' of '{1}' became '{2}' instead of '{3}' to avoid a collision",
            Category, DiagnosticSeverity.Warning, isEnabledByDefault: true,
            description: "Two keys map to the same C# name, or a key maps to a reserved member name; the later one gets a numbered name. Rename the module in PyTorch, or use [TensorKey] to choose names.");

        // [StateDictConfig]: SD0060-SD0069.
        public static readonly DiagnosticDescriptor ConfigNotFound = Error("SD0060", "Config file not found",
            "Config file '{0}' is not in AdditionalFiles{1}",
            "Add the config to the project with <AdditionalFiles Include=\"model/config.json\" />; the attribute path is relative to the project directory, or the end of an AdditionalFiles path.");

        public static readonly DiagnosticDescriptor MalformedConfig = Error("SD0061", "Malformed config JSON",
            "Config '{0}' is not valid JSON: {1}",
            "Fix the JSON at the reported line and column.");

        public static readonly DiagnosticDescriptor ConfigNotAnObject = Error("SD0062", "Not a usable config",
            "Config '{0}': {1}",
            "A config is a JSON object of named fields, each key once, like a Hugging Face config.json.");

        public static readonly DiagnosticDescriptor ConfigAmbiguous = Error("SD0063", "Config path is ambiguous",
            "Config path '{0}' matches several AdditionalFiles: {1}",
            "Give more of the path (\"models/tiny/config.json\"), or the path relative to the project directory.");

        public static readonly DiagnosticDescriptor BadConfigClass = Error("SD0066", "Invalid config class",
            "'{0}' has [StateDictConfig] but {1}",
            "Declare the config class as a non-generic, non-static, non-abstract 'partial class'.");

        public static readonly DiagnosticDescriptor ConfigMixedTypes = new DiagnosticDescriptor("SD0064", "Config values of different types",
            "Config field '{0}' mixes {1}; it is read as System.Text.Json.JsonElement",
            Category, DiagnosticSeverity.Warning, isEnabledByDefault: true,
            description: "The items of an array (or values of a dictionary, or a member of the objects in an array) have no one C# type (int and double unify to double; anything else does not). The property holds the raw JSON.");

        public static readonly DiagnosticDescriptor ConfigRenamed = new DiagnosticDescriptor("SD0065", "Config property name changed",
            "Config field '{0}' became property '{1}' instead of '{2}' to avoid a collision",
            Category, DiagnosticSeverity.Warning, isEnabledByDefault: true,
            description: "Two keys give the same PascalCase name (n_embd and nEmbd), or a key gives a reserved name (Load, Parse, object's members, a member you declared, the class's own name); the later one gets _2, _3, … in file order.");

        public static readonly IReadOnlyDictionary<string, DiagnosticDescriptor> ById = new[]
        {
            SchemaNotFound, MalformedJson, NotASchema, UnknownDType, BadShape, DuplicateKey, TensorAndModule, InvalidKey,
            NotPartial, Generic, ContainerNotPartial, UnknownTensorKey, ElementTypeMismatch, BadTensorKeyProperty,
            DuplicateTensorKey, NotAConcreteClass, BadConvertTo, ChunkDoesNotDivide, ChunkOutOfRange, FallbackMissing,
            FallbackDiffers, ModuleListEmpty, ModuleListGaps, BadModuleType, BadModuleProperty, Renamed,
            BadKindEntry, ConvertToSkipsKind, TensorKindMismatch, KindOption,
            ConfigNotFound, MalformedConfig, ConfigNotAnObject, ConfigAmbiguous, ConfigMixedTypes, ConfigRenamed, BadConfigClass,
        }.ToDictionary(d => d.Id);

        private static DiagnosticDescriptor Error(string id, string title, string message, string description) =>
            new DiagnosticDescriptor(id, title, message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
                description: description);
    }
}
