"""What the survey job and the facts share: the questionnaire, the survey tables of the state
database, and each customer's latest score."""
