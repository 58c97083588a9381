using Corral.Core.Stacks;
using Corral.Testing;
using CsCheck;

namespace Corral.Core.Tests.Stacks;

/// <summary>Issue 12: no stack file, however broken, makes the parser throw; every refusal says where.</summary>
public class StackParserCorpusTests
{
    [Fact]
    public void Parse_TwentyThousandMutatedStackFiles_NeverThrows_AndEveryErrorHasALocation()
    {
        var refused = 0;
        MalformedInputs.StackFile.Sample(yaml =>
        {
            var result = StackParser.Parse(yaml, "corpus.yaml");
            if (result.Succeeded)
            {
                Assert.Empty(result.Errors);
                return;
            }
            Interlocked.Increment(ref refused);
            Assert.NotEmpty(result.Errors);
            Assert.All(result.Errors, e =>
            {
                Assert.True(e.Line >= 1 && e.Column >= 1, $"{e} in:\n{yaml}");
                Assert.False(string.IsNullOrWhiteSpace(e.Message));
            });
            // The same file is judged the same way every time (deploy and diff share this path).
            Assert.Equal(result.Errors, StackParser.Parse(yaml, "corpus.yaml").Errors);
        }, iter: 20_000);

        // Most mutations break the file; if none did, the generator would be testing nothing.
        Assert.True(refused > 10_000, $"only {refused} of 20,000 mutated files were refused");
    }
}
