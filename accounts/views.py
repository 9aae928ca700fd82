from django.shortcuts import render

from accounts.decorators import partner_required


@partner_required
def account(request):
    return render(request, "accounts/account.html", {"partner": request.partner})
