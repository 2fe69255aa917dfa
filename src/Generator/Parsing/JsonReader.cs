using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace StateDict.Generator.Parsing
{
    /// <summary>A parsed JSON value with the character span it came from (for diagnostics that point into the file).</summary>
    internal abstract class JsonNode
    {
        protected JsonNode(int start, int end)
        {
            Start = start;
            End = end;
        }

        public int Start { get; }

        public int End { get; }

        public int Length => End - Start;
    }

    internal sealed class JsonObject : JsonNode
    {
        public JsonObject(int start, int end, List<JsonProperty> properties)
            : base(start, end) => Properties = properties;

        /// <summary>Members in file order; duplicates are kept so the schema parser can report them.</summary>
        public List<JsonProperty> Properties { get; }

        public JsonNode? this[string name]
        {
            get
            {
                foreach (var property in Properties)
                {
                    if (property.Name == name)
                    {
                        return property.Value;
                    }
                }
                return null;
            }
        }
    }

    internal sealed class JsonProperty
    {
        public JsonProperty(string name, int nameStart, int nameEnd, JsonNode value)
        {
            Name = name;
            NameStart = nameStart;
            NameEnd = nameEnd;
            Value = value;
        }

        public string Name { get; }

        public int NameStart { get; }

        public int NameEnd { get; }

        public JsonNode Value { get; }
    }

    internal sealed class JsonArray : JsonNode
    {
        public JsonArray(int start, int end, List<JsonNode> items)
            : base(start, end) => Items = items;

        public List<JsonNode> Items { get; }
    }

    internal sealed class JsonString : JsonNode
    {
        public JsonString(int start, int end, string value)
            : base(start, end) => Value = value;

        public string Value { get; }
    }

    internal sealed class JsonNumber : JsonNode
    {
        public JsonNumber(int start, int end, string text)
            : base(start, end) => Text = text;

        public string Text { get; }

        public bool TryGetInt64(out long value) =>
            long.TryParse(Text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
    }

    internal sealed class JsonLiteral : JsonNode
    {
        public JsonLiteral(int start, int end, string text)
            : base(start, end) => Text = text;

        /// <summary>true, false or null.</summary>
        public string Text { get; }
    }

    internal sealed class JsonSyntaxException : Exception
    {
        public JsonSyntaxException(string message, int position)
            : base(message) => Position = position;

        public int Position { get; }

        /// <summary>The error as a diagnostic located in <paramref name="text"/>, its message ending "(line L, column C)".</summary>
        public Model.DiagnosticInfo ToDiagnostic(Microsoft.CodeAnalysis.DiagnosticDescriptor descriptor, string path, Microsoft.CodeAnalysis.Text.SourceText text)
        {
            var at = Model.LocationInfo.In(path, text, Position, 1);
            var line = at.LineSpan.Start;
            return Model.DiagnosticInfo.Create(descriptor, at, System.IO.Path.GetFileName(path), $"{Message} (line {line.Line + 1}, column {line.Character + 1})");
        }
    }

    /// <summary>
    /// A small strict JSON (RFC 8259) reader, ours so that the analyzer carries no dependency and every node
    /// keeps its span. Nesting is capped, so the recursion is bounded.
    /// </summary>
    internal sealed class JsonReader
    {
        private const int MaxDepth = 64;

        private readonly string _text;
        private int _position;

        private JsonReader(string text) => _text = text;

        public static JsonNode Parse(string text)
        {
            var reader = new JsonReader(text);
            if (text.Length > 0 && text[0] == '\uFEFF')
            {
                reader._position = 1;
            }
            reader.SkipWhitespace();
            var value = reader.ReadValue(0);
            reader.SkipWhitespace();
            if (reader._position < text.Length)
            {
                throw new JsonSyntaxException("unexpected text after the JSON value", reader._position);
            }
            return value;
        }

        private JsonNode ReadValue(int depth)
        {
            if (depth > MaxDepth)
            {
                throw new JsonSyntaxException($"nesting deeper than {MaxDepth}", _position);
            }
            if (_position >= _text.Length)
            {
                throw new JsonSyntaxException("unexpected end of file: expected a value", _position);
            }
            char c = _text[_position];
            switch (c)
            {
                case '{': return ReadObject(depth);
                case '[': return ReadArray(depth);
                case '"':
                    int start = _position;
                    string value = ReadString();
                    return new JsonString(start, _position, value);
                case 't': return ReadLiteral("true");
                case 'f': return ReadLiteral("false");
                case 'n': return ReadLiteral("null");
                default:
                    if (c == '-' || (c >= '0' && c <= '9'))
                    {
                        return ReadNumber();
                    }
                    throw new JsonSyntaxException($"unexpected character '{c}'", _position);
            }
        }

        private JsonObject ReadObject(int depth)
        {
            int start = _position++;
            var properties = new List<JsonProperty>();
            SkipWhitespace();
            if (Peek() == '}')
            {
                _position++;
                return new JsonObject(start, _position, properties);
            }
            while (true)
            {
                SkipWhitespace();
                if (Peek() != '"')
                {
                    throw new JsonSyntaxException("expected a property name in double quotes", _position);
                }
                int nameStart = _position;
                string name = ReadString();
                int nameEnd = _position;
                SkipWhitespace();
                Expect(':');
                SkipWhitespace();
                properties.Add(new JsonProperty(name, nameStart, nameEnd, ReadValue(depth + 1)));
                SkipWhitespace();
                char next = Peek();
                _position++;
                if (next == '}')
                {
                    return new JsonObject(start, _position, properties);
                }
                if (next != ',')
                {
                    throw new JsonSyntaxException(next == '\0' ? "unexpected end of file: expected ',' or '}'" : $"expected ',' or '}}' but found '{next}'", _position - 1);
                }
            }
        }

        private JsonArray ReadArray(int depth)
        {
            int start = _position++;
            var items = new List<JsonNode>();
            SkipWhitespace();
            if (Peek() == ']')
            {
                _position++;
                return new JsonArray(start, _position, items);
            }
            while (true)
            {
                SkipWhitespace();
                items.Add(ReadValue(depth + 1));
                SkipWhitespace();
                char next = Peek();
                _position++;
                if (next == ']')
                {
                    return new JsonArray(start, _position, items);
                }
                if (next != ',')
                {
                    throw new JsonSyntaxException(next == '\0' ? "unexpected end of file: expected ',' or ']'" : $"expected ',' or ']' but found '{next}'", _position - 1);
                }
            }
        }

        private string ReadString()
        {
            int start = _position;
            _position++; // opening quote
            var builder = new StringBuilder();
            while (true)
            {
                if (_position >= _text.Length)
                {
                    throw new JsonSyntaxException("unterminated string", start);
                }
                char c = _text[_position++];
                if (c == '"')
                {
                    return builder.ToString();
                }
                if (c < 0x20)
                {
                    throw new JsonSyntaxException("control character in string", _position - 1);
                }
                if (c != '\\')
                {
                    builder.Append(c);
                    continue;
                }
                char escape = Peek();
                _position++;
                switch (escape)
                {
                    case '"': builder.Append('"'); break;
                    case '\\': builder.Append('\\'); break;
                    case '/': builder.Append('/'); break;
                    case 'b': builder.Append('\b'); break;
                    case 'f': builder.Append('\f'); break;
                    case 'n': builder.Append('\n'); break;
                    case 'r': builder.Append('\r'); break;
                    case 't': builder.Append('\t'); break;
                    case 'u':
                        if (_position + 4 > _text.Length
                            || !int.TryParse(_text.Substring(_position, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int code))
                        {
                            throw new JsonSyntaxException("invalid \\u escape", _position - 2);
                        }
                        builder.Append((char)code);
                        _position += 4;
                        break;
                    default:
                        throw new JsonSyntaxException("invalid escape sequence", _position - 2);
                }
            }
        }

        private JsonNumber ReadNumber()
        {
            int start = _position;
            if (Peek() == '-')
            {
                _position++;
            }
            if (!IsDigit(Peek()))
            {
                throw new JsonSyntaxException("invalid number", start);
            }
            if (Peek() == '0')
            {
                _position++;
            }
            else
            {
                SkipDigits();
            }
            if (Peek() == '.')
            {
                _position++;
                RequireDigits(start);
            }
            if (Peek() == 'e' || Peek() == 'E')
            {
                _position++;
                if (Peek() == '+' || Peek() == '-')
                {
                    _position++;
                }
                RequireDigits(start);
            }
            return new JsonNumber(start, _position, _text.Substring(start, _position - start));
        }

        private void RequireDigits(int start)
        {
            if (!IsDigit(Peek()))
            {
                throw new JsonSyntaxException("invalid number", start);
            }
            SkipDigits();
        }

        private void SkipDigits()
        {
            while (IsDigit(Peek()))
            {
                _position++;
            }
        }

        private JsonLiteral ReadLiteral(string literal)
        {
            int start = _position;
            if (string.CompareOrdinal(_text, _position, literal, 0, literal.Length) != 0)
            {
                throw new JsonSyntaxException($"unexpected character '{_text[_position]}'", _position);
            }
            _position += literal.Length;
            return new JsonLiteral(start, _position, literal);
        }

        private void Expect(char expected)
        {
            if (Peek() != expected)
            {
                throw new JsonSyntaxException(_position >= _text.Length ? $"unexpected end of file: expected '{expected}'" : $"expected '{expected}' but found '{_text[_position]}'", _position);
            }
            _position++;
        }

        private void SkipWhitespace()
        {
            while (_position < _text.Length && (_text[_position] == ' ' || _text[_position] == '\t' || _text[_position] == '\n' || _text[_position] == '\r'))
            {
                _position++;
            }
        }

        private char Peek() => _position < _text.Length ? _text[_position] : '\0';

        private static bool IsDigit(char c) => c >= '0' && c <= '9';
    }
}
