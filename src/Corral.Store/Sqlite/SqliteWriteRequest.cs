namespace Corral.Store.Sqlite;

/// <summary>One write call waiting for the writer thread; completed only after its transaction is durable.</summary>
internal sealed class SqliteWriteRequest(Func<object?> apply)
{
    /// <summary>Runs on the writer thread inside the batch transaction, under the request's own savepoint.</summary>
    public Func<object?> Apply { get; } = apply;

    /// <summary>Continuations run on the thread pool, never on the writer thread.</summary>
    public TaskCompletionSource<object?> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public object? Result { get; set; }

    public Exception? Error { get; set; }
}
