/** Reports Opportunity changes to the Deal Insights backend (see DealInsightsTriggerHandler). */
trigger DealInsightsOpportunityTrigger on Opportunity(
  after insert,
  after update,
  after delete,
  after undelete
) {
  DealInsightsTriggerHandler.handleOpportunities(
    Trigger.operationType,
    Trigger.isDelete ? Trigger.old : Trigger.new,
    Trigger.oldMap
  );
}
