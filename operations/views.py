from django.shortcuts import render

from accounts.decorators import partner_required


@partner_required
def dashboard(request):
    return render(request, "operations/dashboard.html", {"partner": request.partner})
