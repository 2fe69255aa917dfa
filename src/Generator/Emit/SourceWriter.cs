using System.Text;

namespace StateDict.Generator.Emit
{
    /// <summary>A StringBuilder with an indentation level: the generator's only way of writing code.</summary>
    internal sealed class SourceWriter
    {
        private readonly StringBuilder _text = new StringBuilder(4096);
        private int _indent;

        public void Line(string line = "")
        {
            if (line.Length > 0)
            {
                _text.Append(' ', _indent * 4);
            }
            _text.Append(line).Append('\n');
        }

        public void Open(string line)
        {
            Line(line);
            Line("{");
            _indent++;
        }

        public void Close(string suffix = "")
        {
            _indent--;
            Line("}" + suffix);
        }

        public void Doc(string summary) => Line($"/// <summary>{summary}</summary>");

        public override string ToString() => _indent == 0 ? _text.ToString() : throw new System.InvalidOperationException("unbalanced indentation");
    }
}
