using StateDict;

namespace TinyGpt;

/// <summary>
/// The model's config.json (written by train/train.py). The generator reads the file at build time and gives this class
/// a typed property per field (<c>n_embd</c> → <see cref="NEmbd"/>, <c>layer_norm_epsilon</c> → a double, …) and
/// <c>Load(path)</c>, which checks every field's presence and type at run time.
/// </summary>
[StateDictConfig("model/config.json")]
public partial class TinyGptConfig
{
    /// <summary>The width of one attention head.</summary>
    public int HeadSize => NEmbd / NHead;

    /// <summary>Checks what the types alone cannot: the heads divide the width and the vocabulary has vocab_size characters.</summary>
    /// <exception cref="InvalidDataException">The sizes do not fit together.</exception>
    public void Validate(string path)
    {
        if (NLayer <= 0 || NHead <= 0 || NEmbd % NHead != 0 || Vocab.Length != VocabSize)
        {
            throw new InvalidDataException($"{path}: n_layer {NLayer} and n_head {NHead} must be positive, n_head must divide n_embd {NEmbd}, " +
                                           $"and vocab must hold vocab_size {VocabSize} characters (it holds {Vocab.Length})");
        }
    }
}
