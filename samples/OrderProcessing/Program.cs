// Sayiir order processing: fork/join, route, retries and compensation in a co-hosted silo with the embedded (in-memory) default.
// Run it with:  dotnet run --project samples/OrderProcessing
// The workflow and its tasks live in OrderProcessingWorkflow.cs and Services.cs, so tests can run the same definition.
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sayiir;
using Sayiir.Hosting;
using Sayiir.Samples.OrderProcessing;

var builder = Host.CreateApplicationBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning).AddFilter("Orleans", LogLevel.Error);
OrderProcessingWorkflow.AddServices(builder.Services);
builder.UseOrleans(silo => silo
    .UseLocalhostClustering()
    .AddSayiir(s => s.AddWorkflow(OrderProcessingWorkflow.Definition)));

using var host = builder.Build();
await host.StartAsync();
var sayiir = host.Services.GetRequiredService<ISayiirClient>();

Order[] orders =
[
    // The warehouse rejects every first reservation, so each order shows a retry of reserve_inventory.
    new("A-1001", "ada@example.com", [new("keyboard", 1, 89.90m), new("usb-cable", 2, 7.50m)], "express"),
    // Above the slow-review threshold: the first charge stalls, is cut by the 1 s timeout and retried.
    new("A-1002", "grace@example.com", [new("laptop", 1, 1_499.00m)], "standard"),
    // No branch is named "drone": the route's default branch ships it standard.
    new("A-1003", "alan@example.com", [new("headphones", 1, 59.00m)], "drone"),
    // Fails validation: the run ends Failed with a typed error, and nothing is reserved or charged.
    new("A-1004", "edsger@example.com", [], "express"),
    // Charged and reserved, then the express courier refuses the lithium battery: the run compensates, refunding the
    // charge and releasing the stock (the latest completion first), and ends Compensated.
    new("A-1005", "barbara@example.com", [new("lithium-battery-pack", 1, 129.00m)], "express"),
];

foreach (var order in orders)
{
    var instanceId = $"order-{order.OrderId}-{Guid.NewGuid():n}";
    Console.WriteLine($"order {order.OrderId} ({order.ShippingMethod}, {order.Total:0.00}):");
    try
    {
        var receipt = await sayiir.RunAsync(OrderProcessingWorkflow.Definition, order, instanceId);
        // Any completed task's output can be read back, e.g. to see which attempt succeeded.
        var reservation = await sayiir.GetTaskResultAsync<Reservation>(instanceId, "reserve_inventory");
        var payment = await sayiir.GetTaskResultAsync<Payment>(instanceId, "charge_payment");
        Console.WriteLine($"  => receipt: {receipt.Amount:0.00} charged ({payment.TransactionId}, attempt {payment.Attempt}), " +
            $"stock {receipt.ReservationId} (attempt {reservation.Attempt}), " +
            $"{receipt.Shipment!.Carrier} {receipt.Shipment.TrackingNumber} due {receipt.Shipment.EstimatedDelivery:yyyy-MM-dd}, " +
            $"customer notified: {receipt.CustomerNotified}");
    }
    catch (WorkflowCompensatedException ex)
    {
        Console.WriteLine($"  => compensated after '{ex.Failure!.TaskId}' failed ({ex.Failure.Message}): the charge was refunded and the stock released");
    }
    catch (WorkflowFailedException ex)
    {
        Console.WriteLine($"  => failed in '{ex.Failure.TaskId}' after {ex.Failure.Attempt} attempt(s): {ex.Failure.ErrorType}: {ex.Failure.Message}");
    }
}

await host.StopAsync();
