using Corral.Core;
using Corral.Core.Stacks;

namespace Corral.Core.Tests;

public class NamesTests
{
    [Theory]
    [InlineData("a")]
    [InlineData("9")]
    [InlineData("web-3")]
    [InlineData("Node_1.example")]
    [InlineData("a.")]
    public void IsValidNode_WellFormed_True(string name) => Assert.True(Names.IsValidNode(name));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData(".a")]
    [InlineData("-a")]
    [InlineData("_a")]
    [InlineData("a b")]
    [InlineData("a/b")]
    [InlineData("a:b")]
    [InlineData("a\0")]
    [InlineData("a\n")]
    [InlineData("é")]
    [InlineData("a\u0660")]
    public void IsValidNode_Malformed_False(string? name) => Assert.False(Names.IsValidNode(name));

    [Fact]
    public void Lengths_NodeUpTo64_ApiKeyAndLabelUpTo63()
    {
        Assert.True(Names.IsValidNode(new string('a', 64)));
        Assert.False(Names.IsValidNode(new string('a', 65)));
        Assert.True(Names.IsValidApiKey(new string('a', 63)));
        Assert.False(Names.IsValidApiKey(new string('a', 64)));
        Assert.True(Names.IsValidLabel(new string('a', 63)));
        Assert.False(Names.IsValidLabel(new string('a', 64)));
    }

    [Theory]
    [InlineData("zone", true)]
    [InlineData("example.com/zone", true)]
    [InlineData("a/b", true)]
    [InlineData("/a", false)]
    [InlineData("a b", false)]
    [InlineData("a\u2028", false)]
    [InlineData("", false)]
    public void IsValidLabel_AgreesWithTheStackFileRule(string text, bool valid)
    {
        Assert.Equal(valid, Names.IsValidLabel(text));
        Assert.Equal(valid, StackParser.IsValidLabel(text));
    }

    [Theory]
    [InlineData("metrics", true)]
    [InlineData("viewer", true)]
    [InlineData("operator", true)]
    [InlineData("admin", true)]
    [InlineData("Admin", false)]
    [InlineData("ADMIN", false)]
    [InlineData(" admin", false)]
    [InlineData("3", false)]
    [InlineData(null, false)]
    public void IsApiKeyRole_ExactLowerCaseOnly(string? role, bool valid) => Assert.Equal(valid, Names.IsApiKeyRole(role));

    [Theory]
    [InlineData("plain", -1)]
    [InlineData("tab\there", 3)]
    [InlineData("\0", 0)]
    [InlineData("del\u007f", 3)]
    [InlineData("c1\u0085", 2)]
    [InlineData("ls\u2028", 2)]
    [InlineData("ps\u2029", 2)]
    [InlineData("ünïcode ✓", -1)]
    public void IndexOfControl_FindsCcAndLineSeparators(string text, int index) => Assert.Equal(index, Names.IndexOfControl(text));

    [Fact]
    public void CheckNode_ControlCharacter_SaysWhichAndWhere_AndQuotesItEscaped()
    {
        var message = Names.CheckNode("a\nb");

        Assert.Equal("node name 'a\\u000Ab' contains a control character (U+000A) at position 2; it must be " + Names.NodeRule, message);
        Assert.DoesNotContain('\n', message!);
        Assert.Null(Names.CheckNode("ok"));
        Assert.Equal("server name '..' must be " + Names.NodeRule, Names.CheckNode("..", "server name"));
    }

    [Fact]
    public void Quote_LongText_IsCutWithItsLength()
    {
        Assert.Equal("'" + new string('x', 80) + "'… (300 characters)", Names.Quote(new string('x', 300)));
        Assert.Equal("(none)", Names.Quote(null));
    }

    [Fact]
    public void CheckLabels_OneErrorPerBadLabel_InNameOrder_FieldEscaped()
    {
        var errors = Names.CheckLabels(new Dictionary<string, string> { ["z"] = "ok", ["b\n"] = "v", ["a"] = "bad value" }, "labels");

        Assert.Equal(["labels.a", "labels.b\\u000A"], errors.Select(e => e.Field));
        Assert.StartsWith("label value 'bad value' must be", errors[0].Message, StringComparison.Ordinal);
        Assert.StartsWith("label name 'b\\u000A' contains a control character", errors[1].Message, StringComparison.Ordinal);
    }
}
