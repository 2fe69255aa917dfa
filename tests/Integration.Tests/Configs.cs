namespace StateDict.Integration.Tests;

/// <summary>The TinyGpt sample's config.json, found by the end of its path.</summary>
[StateDictConfig("model/config.json")]
public partial class TinyGptConfig;

/// <summary>A LLaVA-NeXT config: nested objects, lists of lists, nulls, dictionaries.</summary>
[StateDictConfig("../fixtures/configs/llava/config.json")]
public partial class LlavaConfig;
