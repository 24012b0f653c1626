using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace Sayiir.Samples.OrderProcessing;

/// <summary>Reserves stock for an order.</summary>
internal interface IWarehouse
{
    /// <summary>Reserves the lines; the same <paramref name="reservationKey"/> always means the same reservation.</summary>
    Task<string> ReserveAsync(string reservationKey, Order order, CancellationToken cancellationToken);

    /// <summary>Releases a reservation (idempotent: releasing one twice releases it once).</summary>
    Task ReleaseAsync(string reservationId, CancellationToken cancellationToken);
}

/// <summary>Charges a customer.</summary>
internal interface IPaymentGateway
{
    /// <summary>Charges once per <paramref name="idempotencyKey"/> and returns the transaction id.</summary>
    Task<string> ChargeAsync(string idempotencyKey, string customerEmail, decimal amount, CancellationToken cancellationToken);

    /// <summary>Refunds a transaction once per <paramref name="idempotencyKey"/>.</summary>
    Task RefundAsync(string idempotencyKey, string transactionId, decimal amount, CancellationToken cancellationToken);
}

/// <summary>Tells customers about their orders.</summary>
internal interface ICustomerNotifier
{
    /// <summary>Sends one notice.</summary>
    Task NotifyAsync(string customerEmail, string message, CancellationToken cancellationToken);
}

/// <summary>
/// The inventory branch: a class task resolved from DI (one scope per attempt) that knows its undo step: should the
/// order fail after the stock was reserved, the run calls <see cref="CompensateAsync"/> with what it reserved.
/// </summary>
internal sealed class ReserveInventory(IWarehouse warehouse) : ICompensableTask<Order, Reservation>
{
    public async Task<Reservation> ExecuteAsync(Order input, TaskContext context)
    {
        var reservationId = await warehouse.ReserveAsync(context.InstanceId, input, context.CancellationToken);
        var lithium = input.Lines.Any(l => l.Sku.Contains("lithium", StringComparison.OrdinalIgnoreCase));
        return new Reservation(input.OrderId, reservationId, input.ShippingMethod, context.Attempt, lithium);
    }

    public Task CompensateAsync(Order input, Reservation output, TaskContext context) =>
        warehouse.ReleaseAsync(output.ReservationId, context.CancellationToken);
}

/// <summary>The last step: a class task that tells the customer their order is on its way.</summary>
internal sealed class NotifyCustomer(ICustomerNotifier notifier) : IWorkflowTask<Receipt, Receipt>
{
    public async Task<Receipt> ExecuteAsync(Receipt input, TaskContext context)
    {
        var shipment = input.Shipment ?? throw new InvalidOperationException($"order {input.OrderId} reached notify without a shipment");
        await notifier.NotifyAsync(input.CustomerEmail,
            $"order {input.OrderId} ships with {shipment.Carrier} ({shipment.TrackingNumber}), arriving {shipment.EstimatedDelivery:yyyy-MM-dd}",
            context.CancellationToken);
        return input with { CustomerNotified = true };
    }
}

/// <summary>A demo warehouse that is busy on the first call for every reservation, so the retry policy shows.</summary>
internal sealed class FlakyWarehouse : IWarehouse
{
    private readonly ConcurrentDictionary<string, int> _calls = new();

    public async Task<string> ReserveAsync(string reservationKey, Order order, CancellationToken cancellationToken)
    {
        await Task.Delay(20, cancellationToken);
        var call = _calls.AddOrUpdate(reservationKey, 1, (_, n) => n + 1);
        if (call == 1)
        {
            Console.WriteLine($"  [warehouse] {order.OrderId}: busy, reservation rejected (will be retried)");
            throw new TimeoutException("the warehouse did not answer in time");
        }
        var items = order.Lines.Sum(l => l.Quantity);
        Console.WriteLine($"  [warehouse] {order.OrderId}: reserved {items} item(s) on call {call}");
        return "R-" + StableSuffix(reservationKey);
    }

    public Task ReleaseAsync(string reservationId, CancellationToken cancellationToken)
    {
        if (Released.TryAdd(reservationId, true)) Console.WriteLine($"  [warehouse] reservation {reservationId} released");
        return Task.CompletedTask;
    }

    /// <summary>The reservations released so far (the demo's record of its undo steps).</summary>
    internal ConcurrentDictionary<string, bool> Released { get; } = new();

    // Derived from the key, so a repeated call for the same reservation returns the same id.
    internal static string StableSuffix(string key) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key)), 0, 4);
}

/// <summary>A demo gateway whose review of large amounts stalls the first charge past the task's timeout.</summary>
internal sealed class FakePaymentGateway : IPaymentGateway
{
    private readonly ConcurrentDictionary<string, int> _calls = new();

    public async Task<string> ChargeAsync(string idempotencyKey, string customerEmail, decimal amount, CancellationToken cancellationToken)
    {
        var call = _calls.AddOrUpdate(idempotencyKey, 1, (_, n) => n + 1);
        if (call == 1 && amount > OrderProcessingWorkflow.SlowReviewThreshold)
        {
            Console.WriteLine($"  [payment] {amount:0.00} for {customerEmail}: review stalled (the task timeout will cut it)");
            // Waits until the task's token fires at its timeout.
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        await Task.Delay(20, cancellationToken);
        Console.WriteLine($"  [payment] {amount:0.00} charged to {customerEmail} on call {call}");
        return "T-" + FlakyWarehouse.StableSuffix(idempotencyKey);
    }

    public Task RefundAsync(string idempotencyKey, string transactionId, decimal amount, CancellationToken cancellationToken)
    {
        if (Refunds.TryAdd(idempotencyKey, transactionId)) Console.WriteLine($"  [payment] {amount:0.00} refunded ({transactionId})");
        return Task.CompletedTask;
    }

    /// <summary>The refunds made so far, by idempotency key (the demo's record of its undo steps).</summary>
    internal ConcurrentDictionary<string, string> Refunds { get; } = new();
}

/// <summary>Prints notices instead of mailing them.</summary>
internal sealed class ConsoleNotifier : ICustomerNotifier
{
    public Task NotifyAsync(string customerEmail, string message, CancellationToken cancellationToken)
    {
        Console.WriteLine($"  [mail] to {customerEmail}: {message}");
        return Task.CompletedTask;
    }
}
