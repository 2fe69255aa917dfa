using System.Text;
using Microsoft.CodeAnalysis.CSharp;

namespace StateDict.Generator.Model
{
    /// <summary>Key segments to C# names, as DESIGN.md fixes them: split on '_', capitalise each part, join.</summary>
    internal static class Identifiers
    {
        /// <summary><c>c_attn</c>→<c>CAttn</c>, <c>ln_1</c>→<c>Ln1</c>, <c>num_batches_tracked</c>→<c>NumBatchesTracked</c>, <c>0</c>→<c>Item0</c>.</summary>
        public static string Member(string segment)
        {
            if (IsIndex(segment))
            {
                return "Item" + segment;
            }
            var name = new StringBuilder(segment.Length);
            bool capitalise = true;
            foreach (char c in segment)
            {
                if (!SyntaxFacts.IsIdentifierPartCharacter(c) || c == '_')
                {
                    capitalise = true;
                    continue;
                }
                name.Append(capitalise ? char.ToUpperInvariant(c) : c);
                capitalise = false;
            }
            if (name.Length == 0)
            {
                return "Member";
            }
            if (!SyntaxFacts.IsIdentifierStartCharacter(name[0]))
            {
                name.Insert(0, '_');
            }
            string result = name.ToString();
            return SyntaxFacts.GetKeywordKind(result) != SyntaxKind.None ? "@" + result : result;
        }

        public static bool IsIndex(string segment)
        {
            if (segment.Length == 0 || segment.Length > 9 || (segment.Length > 1 && segment[0] == '0'))
            {
                return false;
            }
            foreach (char c in segment)
            {
                if (c < '0' || c > '9')
                {
                    return false;
                }
            }
            return true;
        }

        /// <summary>Escapes text for an XML doc comment.</summary>
        public static string Xml(string text) =>
            text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");

        /// <summary>Makes a hint name from a type's full name.</summary>
        public static string HintName(string fullName)
        {
            var hint = new StringBuilder(fullName.Length + 5);
            foreach (char c in fullName)
            {
                hint.Append(char.IsLetterOrDigit(c) || c == '.' || c == '_' ? c : '_');
            }
            return hint.Append(".g.cs").ToString();
        }
    }
}
