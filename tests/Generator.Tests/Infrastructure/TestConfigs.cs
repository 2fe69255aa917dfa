namespace StateDict.Generator.Tests.Infrastructure;

/// <summary>Sample configs the config generator tests share.</summary>
public static class TestConfigs
{
    /// <summary>samples/TinyGpt/model/config.json as train/train.py wrote it.</summary>
    public const string TinyGpt = """
        {
         "model_type": "tinygpt",
         "vocab_size": 60,
         "n_layer": 2,
         "n_head": 4,
         "n_embd": 64,
         "block_size": 32,
         "layer_norm_epsilon": 1e-05,
         "activation_function": "gelu",
         "tie_word_embeddings": true,
         "torch_dtype": "bfloat16",
         "vocab": "\n !'(),.:;?ABCDEFGHIJKLMNOPRSTUWYZabcdefghijklmnopqrstuvwxyz"
        }
        """;

    /// <summary>The kinds of value a Hugging Face config holds: nested objects, lists, dictionaries, null, long, floats, ints mixed with floats.</summary>
    public const string Rich = """
        {
          "_name_or_path": "org/rich-model",
          "architectures": ["RichForCausalLM"],
          "bos_token_id": 1,
          "eos_token_id": [2, 32000],
          "pad_token_id": null,
          "rope_theta": 1000000.0,
          "rope_scaling": {"type": "yarn", "factor": 4.0, "original_max_position_embeddings": 32768},
          "max_tokens_seen": 15000000000000,
          "layer_scales": [1, 0.5, 2],
          "id2label": {"0": "NEGATIVE", "1": "POSITIVE"},
          "label2id": {"NEGATIVE": 0, "POSITIVE": 1},
          "experts": [{"name": "a", "capacity": 2}, {"name": "b", "capacity": 4, "jitter": 0.1}],
          "vision_config": {"hidden_size": 1024, "layer_norm_eps": 1e-06, "patch": {"size": 14, "stride": null}},
          "sliding_windows": [4096, null, 4096],
          "task_specific_params": {},
          "use_cache": true
        }
        """;
}
