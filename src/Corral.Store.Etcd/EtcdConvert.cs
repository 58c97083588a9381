using System.Text;
using Google.Protobuf;
using Api = Corral.Store.Etcd.Api;

namespace Corral.Store.Etcd;

/// <summary>Conversions between the store contract's values and etcd's messages.</summary>
internal static class EtcdConvert
{
    /// <summary>The single NUL byte: as a key it is the lowest key, as a range end it means "no upper bound".</summary>
    public static readonly ByteString Nul = ByteString.CopyFrom(0);

    public static ByteString Key(string key) => ByteString.CopyFromUtf8(key);

    /// <summary>
    /// The etcd range [key, range_end) of every key starting with <paramref name="prefix"/>: the prefix and the prefix
    /// with its last byte below 0xFF incremented (dropping what follows); the empty prefix is ["\0", "\0"), i.e. every key.
    /// </summary>
    public static (ByteString Key, ByteString RangeEnd) Prefix(string prefix)
    {
        if (prefix.Length == 0)
        {
            return (Nul, Nul);
        }
        var bytes = Encoding.UTF8.GetBytes(prefix);
        return (UnsafeByteOperations.UnsafeWrap(bytes), PrefixEnd(bytes));
    }

    /// <summary>The smallest byte string greater than every string starting with <paramref name="prefix"/>; "\0" when none exists.</summary>
    public static ByteString PrefixEnd(ReadOnlySpan<byte> prefix)
    {
        for (var i = prefix.Length - 1; i >= 0; i--)
        {
            if (prefix[i] < 0xFF)
            {
                var end = prefix[..(i + 1)].ToArray();
                end[i]++;
                return UnsafeByteOperations.UnsafeWrap(end);
            }
        }
        return Nul;
    }

    /// <summary>The first key strictly after <paramref name="after"/>: the key followed by a NUL byte.</summary>
    public static ByteString After(string after)
    {
        var length = Encoding.UTF8.GetByteCount(after);
        var bytes = new byte[length + 1];
        Encoding.UTF8.GetBytes(after, bytes);
        return UnsafeByteOperations.UnsafeWrap(bytes);
    }

    public static KeyValue ToKeyValue(Api.KeyValue kv) =>
        new(kv.Key.ToStringUtf8(), kv.Value.Memory, kv.CreateRevision, kv.ModRevision, kv.Version, kv.Lease);

    public static KeyValue? ToKeyValueOrNull(Api.KeyValue? kv) => kv is null ? null : ToKeyValue(kv);

    public static IReadOnlyList<KeyValue> ToKeyValues(Google.Protobuf.Collections.RepeatedField<Api.KeyValue> kvs)
    {
        if (kvs.Count == 0)
        {
            return [];
        }
        var result = new KeyValue[kvs.Count];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = ToKeyValue(kvs[i]);
        }
        return result;
    }
}
