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

        /// <summary>
        /// Escapes text for a one-line XML doc comment: markup characters become entities, and line breaks and other
        /// control characters (which would end the comment or be invalid XML) become <c>\n</c>, <c>\uXXXX</c>.
        /// </summary>
        public static string Xml(string text)
        {
            var xml = new StringBuilder(text.Length);
            foreach (char c in text)
            {
                switch (c)
                {
                    case '&': xml.Append("&amp;"); break;
                    case '<': xml.Append("&lt;"); break;
                    case '>': xml.Append("&gt;"); break;
                    case '\n': xml.Append("\\n"); break;
                    case '\r': xml.Append("\\r"); break;
                    default:
                        if ((char.IsControl(c) && c != '\t') || c == '\u2028' || c == '\u2029')
                        {
                            xml.Append("\\u").Append(((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture));
                        }
                        else
                        {
                            xml.Append(c);
                        }
                        break;
                }
            }
            return xml.ToString();
        }

        /// <summary>A type name as it must be written in code: <c>@record</c> for a (contextual) keyword.</summary>
        public static string Escape(string name) =>
            SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None || SyntaxFacts.GetContextualKeywordKind(name) != SyntaxKind.None ? "@" + name : name;

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
